"""The graph picture: a networkx graph of a `Subgraph`, drawn by pyvis as one self-contained HTML page.

Every text that reaches the page is plain text: labels are drawn on the canvas, tooltips are strings (which
vis-network 9 shows as text), and pyvis's template serialises node data with Jinja's `tojson`, which escapes
`<`, `>` and `&`. pyvis switches to an `innerHTML` tooltip when any tooltip contains "href", so that
substring is broken up first; a name can then never become markup.
"""
from __future__ import annotations

import hashlib

import html as html_text
import re

import networkx as nx
from pyvis.network import Network

from storage.graph_query import Subgraph

# pyvis's template always pulls Bootstrap from a CDN (for menus we do not use): dropped, so the picture works
# offline and the curator's browser asks no third party for anything
_CDN_TAGS = re.compile(r"<(link|script)\b[^>]*(href|src)=\"https://cdn\.jsdelivr\.net/[^>]*>\s*(</script>)?", re.S)
ACCEPTED_COLOUR = "#4a5568"
TYPE_COLOURS = ["#3182ce", "#38a169", "#d69e2e", "#805ad5", "#dd6b20", "#319795", "#e53e3e", "#718096"]


def confidence_colour(confidence: float) -> str:
    """Red (unsure) through amber to green (sure) for suggestions."""
    c = min(1.0, max(0.0, confidence))
    red, green = (int(220 * (1 - c) + 40 * c), int(60 * (1 - c) + 170 * c))
    return f"#{red:02x}{green:02x}40"


def _plain(text: str) -> str:
    return text.replace("href", "hre\u200bf").replace("HREF", "HRE\u200bF")


def to_networkx(graph: Subgraph) -> nx.MultiDiGraph:
    g = nx.MultiDiGraph()
    for name, node in graph.nodes.items():
        g.add_node(name, label=node.label, type=node.type, description=node.description)
    for edge in graph.edges:
        g.add_edge(edge.head, edge.tail, key=edge.id, relation=edge.relation_label, status=edge.status,
                   confidence=edge.confidence)
    return g


def type_colour(kind: str) -> str:
    """A type's colour, the same in every view (by the type's name, not by which types a view happens to show:
    launch sites were purple around one entity and orange around another)."""
    if not kind:
        return TYPE_COLOURS[0]
    return TYPE_COLOURS[1 + int(hashlib.sha256(kind.encode("utf-8")).hexdigest(), 16) % (len(TYPE_COLOURS) - 1)]


def type_colours(g: nx.MultiDiGraph) -> dict[str, str]:
    """Entity type → node colour ("" for entities without a type)."""
    return {kind: type_colour(kind) for kind in sorted({data["type"] or "" for _, data in g.nodes(data=True)})}


def _line(colour: str, dashed: bool) -> str:
    dash = ' stroke-dasharray="5,4"' if dashed else ""
    return (f'<svg width="30" height="10" aria-hidden="true"><line x1="0" y1="5" x2="30" y2="5" stroke="{colour}" '
            f'stroke-width="2.5"{dash}/></svg>')


def legend_html(g: nx.MultiDiGraph) -> str:
    """What the colours and lines mean, above the picture (type names escaped: they come from the data)."""
    items = [f"{_line(ACCEPTED_COLOUR, False)} accepted fact",
             f"{_line(confidence_colour(1.0), True)}{_line(confidence_colour(0.0), True)} suggestion, sure … unsure",
             f"{_line('#cbd5e0', True)} rejected or retracted"]
    for kind, colour in type_colours(g).items():
        items.append(f'<span style="color:{colour};font-size:16px">●</span> {html_text.escape(kind) or "no type"}')
    items.append("larger dot: the entity the view is centred on")
    return ('<div class="knowco-legend" style="font:12px sans-serif;color:#2d3748;display:flex;flex-wrap:wrap;'
            'gap:4px 16px;align-items:center;padding:2px 4px">'
            + "".join(f'<span style="display:inline-flex;align-items:center;gap:4px">{item}</span>' for item in items)
            + "</div>")


def _add_nodes(net: Network, g: nx.MultiDiGraph, center: str | None) -> None:
    colours = type_colours(g)
    for name, data in g.nodes(data=True):
        description = data["description"] or ""
        title = "\n".join(part for part in (data["label"], f"type: {data['type']}" if data["type"] else "",
                                            description[:300]) if part)
        # the centre weighs more, so the layout keeps its neighbours off it
        net.add_node(name, label=_plain(data["label"][:40]), title=_plain(title), color=colours[data["type"] or ""],
                     size=26 if name == center else 14, borderWidth=3 if name == center else 1,
                     mass=4 if name == center else 1)


def _edge_style(status: str, confidence: float | None) -> tuple[str, str, bool, int]:
    """(tooltip suffix, colour, dashed, width): accepted solid, suggestions dashed by confidence, rejected and retracted grey."""
    if status == "suggested":
        return f" (suggested, confidence {confidence or 0.0:.2f})", confidence_colour(confidence or 0.0), True, 1
    if status in ("rejected", "retracted"):
        return f" ({status})", "#cbd5e0", True, 1
    return "", ACCEPTED_COLOUR, False, 2


def render_html(graph: Subgraph, *, center: str | None = None, height_px: int = 620) -> str:
    g = to_networkx(graph)
    net = Network(height=f"{height_px}px", width="100%", directed=True, cdn_resources="in_line")
    _add_nodes(net, g, center)
    for head, tail, data in g.edges(data=True):
        suffix, colour, dashed, width = _edge_style(data["status"], data["confidence"])
        net.add_edge(head, tail, label=_plain(data["relation"]), title=_plain(data["relation"] + suffix),
                     dashes=dashed, width=width, color=colour)
    net.set_options("""{
      "physics": {"stabilization": {"iterations": 200, "fit": true}, "barnesHut": {"springLength": 140, "avoidOverlap": 0.6}},
      "edges": {"font": {"size": 10, "align": "middle"}, "arrows": {"to": {"enabled": true, "scaleFactor": 0.5}},
                "smooth": {"type": "dynamic"}},
      "nodes": {"shape": "dot", "font": {"size": 13}},
      "interaction": {"hover": true, "tooltipDelay": 120}
    }""")
    html = _CDN_TAGS.sub("", net.generate_html()).replace("<body>", "<body>" + legend_html(g), 1)
    # physics off once the layout has settled, so the picture stops moving and stays where the curator drags it
    return html.replace("return network;", 'network.once("stabilizationIterationsDone", function () '
                        '{ network.setOptions({physics: false}); });\n                  return network;', 1)
