// Evaluated in a page by tests/e2e/test_console_ux.py: the visible buttons whose text is
// hard to read on their background (WCAG contrast ratio below 4.5:1), as
// [text, ratio] pairs; none when every button can be read. The wallboard's supervisor
// buttons were white on white: base.css gives buttons a white background and --ink
// text, and the wallboard's --ink is near-white.
() => {
  const channels = (color) => (color.match(/[\d.]+/g) || []).map(Number);
  const luminance = ([r, g, b]) => {
    const linear = [r, g, b].map((v) => {
      const c = v / 255;
      return c <= 0.03928 ? c / 12.92 : ((c + 0.055) / 1.055) ** 2.4;
    });
    return 0.2126 * linear[0] + 0.7152 * linear[1] + 0.0722 * linear[2];
  };
  // The first background that is not transparent, from the element up.
  const background = (el) => {
    for (let node = el; node; node = node.parentElement) {
      const rgba = channels(getComputedStyle(node).backgroundColor);
      if (rgba.length === 3 || (rgba.length === 4 && rgba[3] > 0)) return rgba;
    }
    return [255, 255, 255];
  };
  const problems = [];
  for (const button of document.querySelectorAll("button")) {
    const box = button.getBoundingClientRect();
    if (!button.textContent.trim() || box.width === 0 || box.height === 0) continue;
    const ink = luminance(channels(getComputedStyle(button).color));
    const paper = luminance(background(button));
    const ratio = (Math.max(ink, paper) + 0.05) / (Math.min(ink, paper) + 0.05);
    if (ratio < 4.5) problems.push([button.textContent.trim(), Math.round(ratio * 100) / 100]);
  }
  return problems;
}
