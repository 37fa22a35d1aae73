"""``{% cycle_switcher cycle %}``: the cycle chooser every page about one cycle shows.

``{% cycle_switcher cycle %}`` renders its own GET form (``action=`` another page's URL, ``keep=``
the space-separated query parameters to carry over); ``{% cycle_switcher cycle inline=True %}``
renders only the ``<select name="year">`` for a page's existing filter form.
"""

from __future__ import annotations

from typing import Any

from django import template

from jixiao.schemes.models import Cycle
from jixiao.schemes.selectors import switcher_cycles

register = template.Library()


@register.inclusion_tag("web/cycle_switcher.html", takes_context=True)
def cycle_switcher(
    context: template.Context, cycle: Cycle | None, action: str = "", keep: str = "", inline: bool = False
) -> dict[str, Any]:
    request = context.get("request")
    params = request.GET if request is not None else {}
    return {
        "cycle": cycle,
        "cycles": switcher_cycles(),
        "action": action,
        "inline": inline,
        "kept": [(name, params.get(name, "")) for name in keep.split() if params.get(name, "")],
    }
