"""The graph picture: suggestions dashed and coloured, names inert, nothing fetched from the internet."""
from __future__ import annotations

import json
import re

from knowco.graph_view import confidence_colour, render_html
from storage.graph_query import Edge, Node, Subgraph

HOSTILE = "<img src=x onerror=alert(1)>"


def _data(html: str, which: str) -> list[dict]:
    return json.loads(re.search(rf"{which} = new vis\.DataSet\((\[.*?\])\);", html, re.S).group(1))


def test_edges_nodes_and_escaping():
    graph = Subgraph(nodes={HOSTILE: Node(HOSTILE, HOSTILE, "drug", '<a href="javascript:x">click</a></script>'),
                            "fever": Node("fever", "fever", "symptom", "")},
                     edges=[Edge(1, HOSTILE, "treats", "treats", "fever", "accepted", None, "imported"),
                            Edge(2, "fever", "treats", "treats", HOSTILE, "suggested", 0.9, "model")])
    html = render_html(graph, center="fever")
    accepted, suggested = _data(html, "edges")
    assert not accepted["dashes"] and suggested["dashes"] and suggested["color"] == confidence_colour(0.9)
    nodes = {n["id"]: n for n in _data(html, "nodes")}
    assert nodes["fever"]["size"] > nodes[HOSTILE]["size"]
    assert HOSTILE not in html and "</script>click" not in html and "<a href" not in html
    assert "href" not in nodes[HOSTILE]["title"]  # pyvis would switch to an innerHTML tooltip
    assert not re.findall(r'(?:src|href)="https?://', html)
    assert 'setOptions({physics: false})' in html
    legend = html[html.index('class="knowco-legend"'):html.index("</div>", html.index('class="knowco-legend"'))]
    assert "accepted fact" in legend and "suggestion, sure … unsure" in legend and "rejected or retracted" in legend
    assert "drug" in legend and "symptom" in legend
    assert nodes["fever"]["mass"] > nodes[HOSTILE]["mass"]  # the centre pushes its neighbours off itself


def test_a_type_name_in_the_legend_is_text():
    graph = Subgraph(nodes={"a": Node("a", "a", HOSTILE, ""), "b": Node("b", "b", None, "")},
                     edges=[Edge(1, "a", "r", "r", "b", "accepted", None, "imported")])
    html = render_html(graph, center="a")
    assert HOSTILE not in html and "&lt;img src=x" in html and "no type" in html


def test_confidence_colours_run_from_red_to_green():
    red, green = confidence_colour(0.0), confidence_colour(1.0)
    assert int(red[1:3], 16) > int(red[3:5], 16) and int(green[3:5], 16) > int(green[1:3], 16)


def test_a_type_keeps_its_colour_whatever_else_a_view_shows():
    from knowco.graph_view import type_colour

    assert type_colour("launch site") == type_colour("launch site") and type_colour("") != type_colour("mission")
    assert len({type_colour(kind) for kind in ("astronaut", "mission", "agency", "country", "launch site")}) >= 3
