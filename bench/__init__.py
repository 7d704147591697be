"""Load benchmark for the live room (see bench/README.md and docs/performance.md).

`bench.load` drives one room with N participants over real WebSockets, against Samskapa and
against `bench.floor` (the least a Python broadcast server can do for the same protocol), so
every Samskapa figure is reported as a ratio to a floor measured in the same run on the same
noisy machine. Not part of the app package: nothing under app/ imports it.
"""
