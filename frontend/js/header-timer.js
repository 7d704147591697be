// The countdown in a room page's header, ticking once a second from the server's end time.
// page.js imports it only once a room has a timer (or in the background after the first
// screen): a phone joining on a weak link does not wait for it.

import { formatClock } from "./format.js";
import { Countdown } from "./timer.js";

/** Starts the countdown in the frame's timer element; returns the interval to clear. */
export function startTimer(frame, live, t) {
  const countdown = new Countdown();
  const tick = () => {
    const { shown, left, done } = countdown.read(live.state.settings, Date.now(), live.state.serverOffsetMs);
    frame.timer.hidden = !shown;
    frame.timer.classList.toggle("timer-done", done);
    if (!shown) return;
    frame.timer.textContent = done ? t("timer.done") : `${t("timer.label")} ${formatClock(left)}`;
  };
  tick();
  return setInterval(tick, 1000);
}
