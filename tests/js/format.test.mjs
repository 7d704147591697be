// Number and aggregate formatting (frontend/js/format.js).
import assert from "node:assert/strict";
import { test } from "node:test";

import { describeHistogram, formatClock, formatDate, formatMoment, formatNumber, secondsLeft } from "../../frontend/js/format.js";

test("Swedish and Finnish write a decimal comma, English a point", () => {
  assert.equal(formatNumber(5.5, "sv"), "5,5");
  assert.equal(formatNumber(5, "sv"), "5,0");
  assert.equal(formatNumber(8.25, "sv", 2), "8,25");
  assert.equal(formatNumber(5.5, "fi"), "5,5");
  assert.equal(formatNumber(5.5, "en"), "5.5");
  assert.equal(formatNumber(2.16, "sv"), "2,2");
  assert.equal(formatNumber(10, "sv", 0), "10");
});

test("no value is a dash, never 'NaN' or 'null'", () => {
  assert.equal(formatNumber(null, "sv"), "–");
  assert.equal(formatNumber(undefined, "sv"), "–");
  assert.equal(formatNumber(Number.NaN, "sv"), "–");
});

test("secondsLeft counts from the server's clock, rounds up and stops at zero", () => {
  const ends = "2025-03-10T09:05:00Z";
  const now = Date.parse("2025-03-10T09:00:00Z");
  assert.equal(secondsLeft(null, now), null);
  assert.equal(secondsLeft(ends, now), 300);
  assert.equal(secondsLeft(ends, now + 500), 300, "299.5 s left shows as 300");
  // Our clock is 60 s behind the server's: the server says only 240 s are left.
  assert.equal(secondsLeft(ends, now, 60_000), 240);
  assert.equal(secondsLeft(ends, now, -60_000), 360);
  assert.equal(secondsLeft(ends, now + 600_000), 0);
});

test("formatClock writes minutes and two-digit seconds", () => {
  assert.equal(formatClock(0), "0:00");
  assert.equal(formatClock(5), "0:05");
  assert.equal(formatClock(65), "1:05");
  assert.equal(formatClock(300), "5:00");
  assert.equal(formatClock(3600), "60:00");
  assert.equal(formatClock(null), "");
});

test("describeHistogram names only the values someone chose", () => {
  const text = describeHistogram([0, 2, 0, 0, 0, 0, 1, 0, 0, 0], (count, value) => `${count} på ${value}`);
  assert.equal(text, "2 på 2, 1 på 7");
  assert.equal(describeHistogram(Array(10).fill(0), () => "x"), "");
});

test("a day is written as each language writes it; a broken date is nothing", () => {
  assert.equal(formatDate("2026-03-10T09:00:00Z", "sv"), "10 mars 2026");
  assert.equal(formatDate("2026-03-10T09:00:00Z", "en"), "10 Mar 2026");
  assert.equal(formatDate("2026-03-10T09:00:00Z", "fi"), "10.3.2026");
  assert.equal(formatDate("not a date", "sv"), "");
});

test("formatMoment writes the day and the time of day as the language does", () => {
  const iso = "2026-12-03T13:02:44Z";
  assert.equal(formatMoment(iso, "sv", "Europe/Stockholm"), "3 dec. 14:02");
  assert.match(formatMoment(iso, "en", "Europe/London"), /^3 Dec,? 13:02$/);
  assert.match(formatMoment(iso, "fi", "Europe/Helsinki"), /3\.12\..*15[.:]02/);
  assert.equal(formatMoment("not a date", "sv"), "");
});
