"""Following `@odata.nextLink`: every page of a Graph collection, up to a bound, saying whether it stopped.

Graph pages collections server-side and each page names the next one in `@odata.nextLink`, to be
requested as it is (microsoftgraph/microsoft-graph-docs-contrib, concepts/paging.md). Wherever a
decision depends on the whole set (an administrator refusal, whether someone is in a requester group, a
member count) the appliance reads every page, up to `MAX_PAGES`, and says when it stopped short.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from appliance.graph.gateway import GraphGateway

MAX_PAGES = 50
"""At most this many pages per collection (5,000 objects at Graph's default 100 per page)."""


@dataclass(frozen=True)
class Pages:
    """The items read, how many pages that took, and whether the collection ended (False: the bound stopped it)."""

    items: list[Any]
    pages: int
    complete: bool


def _getter(request: Any) -> Callable[[Any], Awaitable[Any]]:
    """`config -> request.get(config)`, bound to this page's request builder."""
    return lambda config: request.get(request_configuration=config)


async def every_page(gw: GraphGateway, crid: str, builder: Any, *, query: Any = None,
                     max_pages: int = MAX_PAGES) -> Pages:
    """GET `builder` (a msgraph request builder) and then each `@odata.nextLink`, up to `max_pages` pages."""
    page = await gw.call(crid, lambda c: builder.get(request_configuration=c), query=query)
    items = list(getattr(page, "value", None) or [])
    pages, link = 1, getattr(page, "odata_next_link", None)
    while link and pages < max_pages:
        page = await gw.call(crid, _getter(builder.with_url(link)))
        items += list(getattr(page, "value", None) or [])
        pages, link = pages + 1, getattr(page, "odata_next_link", None)
    return Pages(items, pages, link is None)
