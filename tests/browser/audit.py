"""What every page must pass in the browser: axe-core's WCAG 2.x A and AA rules, and no sideways scrolling at a
laptop's and a phone's width. Both return a list of problems in words (empty when the page passes)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from axe_playwright_python.base import AXE_SCRIPT

WCAG_A_AA = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa"]
WIDTHS = (1366, 390)
HEIGHT = 900


def accessibility(page: Any) -> list[str]:
    if not page.evaluate("() => typeof window.axe === 'object'"):
        page.evaluate(AXE_SCRIPT)  # through the DevTools protocol: the page's CSP stays in force for its own scripts
    result = page.evaluate(RUN_AXE, WCAG_A_AA)
    return [
        f"axe {v['id']} ({v['impact']}): {v['help']} at {', '.join(str(n['target']) for n in v['nodes'][:3])}"
        for v in result["violations"]
    ]


def sideways(page: Any) -> list[str]:
    problems = []
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": HEIGHT})
        scroll, inner = page.evaluate("() => [document.documentElement.scrollWidth, window.innerWidth]")
        if scroll > inner:
            widest = page.evaluate(WIDEST)
            problems.append(f"scrolls sideways at {width} px: {scroll} px of content ({widest})")
    page.set_viewport_size({"width": WIDTHS[0], "height": HEIGHT})
    return problems


def audit(page: Any) -> list[str]:
    return accessibility(page) + sideways(page)


def with_language(url: str, language: str) -> str:
    parts = urlsplit(url)
    query = [(k, v) for k, v in parse_qsl(parts.query, keep_blank_values=True) if k != "lang"] + [("lang", language)]
    return urlunsplit(parts._replace(query=urlencode(query)))


# Names the element that reaches furthest out of the viewport, so a failure says where to look.
WIDEST = """() => {
  let worst = null, reach = 0;
  for (const el of document.querySelectorAll('body *')) {
    const box = el.getBoundingClientRect();
    const out = Math.max(box.right - window.innerWidth, -box.left);
    if (box.width > 0 && out > reach) { reach = out; worst = el; }
  }
  if (!worst) return 'no element found';
  const id = worst.id ? '#' + worst.id : '';
  const cls = worst.className && typeof worst.className === 'string' ? '.' + worst.className.split(' ').join('.') : '';
  return worst.tagName.toLowerCase() + id + cls + ' by ' + Math.round(reach) + ' px';
}"""


# Every rule on the whole page, except colour contrast, which is by far the slowest (seconds on a long page)
# and whose outcome depends only on an element's colours, font and the backgrounds behind it: it runs on one
# text element for each combination of those, which gives the same verdicts in a fraction of the time.
RUN_AXE = """async (tags) => {
  const options = {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']};
  const whole = await axe.run(document, {...options, rules: {'color-contrast': {enabled: false}}});
  const kinds = new Set(), sample = [];
  for (const el of document.body.querySelectorAll('*')) {
    if (![...el.childNodes].some(n => n.nodeType === Node.TEXT_NODE && n.textContent.trim())) continue;
    const style = getComputedStyle(el);
    const key = [style.color, style.fontSize, style.fontWeight, style.textShadow, style.opacity];
    for (let up = el; up; up = up.parentElement) {
      const s = getComputedStyle(up);
      key.push(s.backgroundColor, s.backgroundImage, s.opacity, s.position);
      if (s.backgroundColor !== 'rgba(0, 0, 0, 0)' && s.opacity === '1' && s.backgroundImage === 'none') break;
    }
    const signature = key.join('|');
    if (!kinds.has(signature)) { kinds.add(signature); sample.push(el); }
  }
  if (!sample.length) return whole;
  const contrast = await axe.run({include: sample}, {...options, runOnly: {type: 'rule', values: ['color-contrast']}});
  return {violations: [...whole.violations, ...contrast.violations]};
}"""
