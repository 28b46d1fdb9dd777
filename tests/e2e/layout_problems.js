// Evaluated in the console page by tests/e2e/test_console_ux.py: what covers a call card,
// and what runs past its box. Returns the problems found, none when the layout holds:
// - the page wider than the window (sideways scrolling), or a panel's content wider
//   than the panel (or the queue table than its scrolling box);
// - a card covered: sampled on a grid of points, the element on top must be the card or
//   inside it; and since elementFromPoint skips what has pointer-events: none, an element
//   floating over the page (fixed or sticky) or a softphone badge must not intersect it.
() => {
  const problems = [];
  const doc = document.documentElement;
  if (doc.scrollWidth > doc.clientWidth) {
    problems.push(`page ${doc.scrollWidth} > ${doc.clientWidth} px wide`);
  }
  for (const panel of document.querySelectorAll(".panel, .table-scroll")) {
    if (panel.scrollWidth > panel.clientWidth + 1) {
      problems.push(`${panel.className}: content ${panel.scrollWidth} > ${panel.clientWidth} px`);
    }
  }
  const floating = [...document.querySelectorAll("body *")].filter((el) => {
    const position = getComputedStyle(el).position;
    return position === "fixed" || position === "sticky" || el.matches("[data-testid$=-status]");
  });
  for (const card of document.querySelectorAll("[data-testid=call-card]")) {
    card.scrollIntoView({ block: "center" });
    const box = card.getBoundingClientRect();
    const name = `card ${card.dataset.callId}`;
    for (const el of floating) {
      if (card.contains(el) || el.contains(card) || el.hidden) continue;
      const r = el.getBoundingClientRect();
      const crosses = r.left < box.right && r.right > box.left && r.top < box.bottom && r.bottom > box.top;
      if (r.width && r.height && crosses) {
        problems.push(`${name} under ${el.dataset.testid || el.className}`);
      }
    }
    // Inset past the rounded corners (8 px), where the card's parent shows through.
    const inset = 10;
    const top = Math.max(box.top, 0) + inset, bottom = Math.min(box.bottom, innerHeight) - inset;
    for (let i = 0; i <= 4; i++) {
      for (let j = 0; j <= 4; j++) {
        const x = box.left + inset + ((box.width - 2 * inset) * i) / 4;
        const y = top + ((bottom - top) * j) / 4;
        const hit = document.elementFromPoint(x, y);
        if (hit && !card.contains(hit)) {
          problems.push(`${name} covered at ${x},${y} by ${hit.tagName}.${hit.className}`);
        }
      }
    }
  }
  window.scrollTo(0, 0);
  return problems;
}
