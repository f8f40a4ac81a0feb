"""The pages of ``deepcolor book`` (:mod:`deepcolor.book`): each executed notebook, and an index,
as static HTML written by nbconvert's HTMLExporter (notebook ``00_start_here``).

nbconvert's ``lab`` template renders a notebook as JupyterLab shows it (code, outputs, figures
embedded as PNG, tables); a few cells added before export make the rest:

- at the top and the bottom of a page, links to the index and to the pages before and after it,
  and, at the top, the profile it ran under and the machine (system, CPU, GPUs, backend);
- links between notebooks (``[04](04_base_model.ipynb)``) lead to their pages (``.html``), or
  become plain text when that page is not in the book;
- a widget cannot move in a static page: each slider is shown at its starting value, as the still
  figure it drew then (its ``ipywidgets.Image``), with a line saying it moves in JupyterLab
  (:func:`widget_stills`); a progress bar is shown as its last line of text;
- the index is a notebook of markdown cells: the course map, and each notebook's goals (the
  bullets of its first cell) and time.

Every page works without a network: the template's scripts from the internet (RequireJS, MathJax,
Mermaid, the widget renderer) are left out, the course needing none of them.
"""

from __future__ import annotations

import html
import re
from pathlib import Path

from .files import write_bytes
from .lessons.start_here import COURSE, TIMES, format_time

__all__ = ["OFFLINE_TEMPLATE", "widget_stills", "rewrite_links", "title", "goals", "machine_line", "write_pages"]

OFFLINE_TEMPLATE = """{%- extends 'index.html.j2' -%}
{%- block html_head_js_requirejs -%}{%- endblock html_head_js_requirejs -%}
{%- block html_head_js_mathjax -%}{%- endblock html_head_js_mathjax -%}
{%- block html_head_js_mermaidjs -%}{%- endblock html_head_js_mermaidjs -%}
{%- block jupyter_widgets -%}{%- endblock jupyter_widgets -%}
"""
"""nbconvert's ``lab`` page without the scripts it would load from the internet."""

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
WIDGET_STATE = "application/vnd.jupyter.widget-state+json"
_TEXT_MODELS = {"HTMLModel", "HTMLMathModel", "LabelModel"}
_SILENT_MODELS = {"FloatProgressModel", "IntProgressModel"}  # a bar: its HTML beside it says the numbers
_TIME_COLUMN = {"smoke": "smoke", "default-offline": "default-offline", "default": "default, 2-core CPU"}


def _widget_states(nb) -> dict:
    """model id -> (state, {buffer path: base64 data}) from the widget state nbclient stored."""
    stored = nb.metadata.get("widgets", {}).get(WIDGET_STATE, {}).get("state", {})
    return {model_id: (entry.get("state", {}), {tuple(b["path"]): b["data"] for b in entry.get("buffers", [])})
            for model_id, entry in stored.items()}


def _control(state: dict) -> str:
    """A control as words: "L = 60", "lr = 0.001", or its description alone (a button)."""
    name = state.get("description") or state.get("_model_name", "control").removesuffix("Model")
    if "_options_labels" in state and isinstance(state.get("index"), int):
        return f"{name} = {state['_options_labels'][state['index']]}"
    value = state.get("value")
    return f"{name} = {value}" if isinstance(value, (int, float, str)) and value != "" else name


def _walk(model_id: str, states: dict, found: dict) -> None:
    """Collect what the widget ``model_id`` and its children show: PNGs, outputs, text, controls."""
    ref = model_id.removeprefix("IPY_MODEL_")
    if ref not in states:
        return
    state, buffers = states[ref]
    model = state.get("_model_name", "")
    if isinstance(state.get("children"), list):
        for child in state["children"]:
            _walk(child, states, found)
    elif model == "ImageModel":
        data = buffers.get(("value",))
        if data and state.get("format", "png") == "png":
            found["images"].append(data)
    elif model == "OutputModel":
        found["outputs"].extend(state.get("outputs", []))
    elif model in _TEXT_MODELS:
        text = html.unescape(re.sub(r"<[^>]+>", " ", str(state.get("value", "")))).strip()
        if text:
            found["text"].append(re.sub(r"\s+", " ", text))
    elif model not in _SILENT_MODELS and not model.endswith(("LayoutModel", "StyleModel")):
        found["controls"].append(_control(state))
        found["sliders"] &= model.endswith("SliderModel")


def _still(model_id: str, states: dict) -> list:
    """The outputs that stand for the widget ``model_id`` in a static page."""
    found = {"images": [], "outputs": [], "text": [], "controls": [], "sliders": True}
    _walk(model_id, states, found)
    outputs = [{"output_type": "display_data", "metadata": {}, "data": {"image/png": png}} for png in found["images"]]
    outputs += found["outputs"]
    if found["text"] and not found["images"]:
        outputs.append({"output_type": "stream", "name": "stdout", "text": " ".join(found["text"]) + "\n"})
    if found["controls"]:
        shown = ", ".join(found["controls"])
        one = len(found["controls"]) == 1
        kind = ("slider" if found["sliders"] else "control") + ("" if one else "s")
        if found["images"]:
            line = (f"*A still: the figure at {shown}. In JupyterLab the {kind} move{'s' if one else ''} and the "
                    f"figure follows: run the notebook there to try {'it' if one else 'them'}.*")
        else:
            line = (f"*In JupyterLab, controls are here ({shown}): they work when you run the notebook there; a "
                    "static page cannot run them.*")
        outputs.append({"output_type": "display_data", "metadata": {}, "data": {"text/markdown": line}})
    return outputs


def widget_stills(nb) -> int:
    """Replace, in place, every widget in ``nb``'s outputs by what it showed when the notebook ran
    (:func:`_still`: the figure of a slider and a line saying it moves in JupyterLab), and drop
    the widget state, which only a browser with the widget renderer could use.  Returns how many
    widgets were replaced."""
    states = _widget_states(nb)
    replaced = 0
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        outputs = []
        for out in cell.get("outputs", []):
            view = out.get("data", {}).get(WIDGET_VIEW)
            if view is None:
                outputs.append(out)
                continue
            outputs.extend(_still(view.get("model_id", ""), states))
            replaced += 1
        cell.outputs = _as_nodes(outputs)
    nb.metadata.pop("widgets", None)
    return replaced


def _as_nodes(outputs: list) -> list:
    import nbformat

    return [nbformat.from_dict(out) for out in outputs]


_NOTEBOOK_LINK = re.compile(r"\[([^\]]*)\]\((\d\d_[A-Za-z0-9_]+)\.ipynb(#[^)\s]*)?\)")


def rewrite_links(nb, pages: set) -> None:
    """In ``nb``'s markdown, a link to a notebook (``[text](04_base_model.ipynb#part)``) leads to its
    page (``04_base_model.html#part``) when ``pages`` holds it, else becomes its text."""
    def page(match):
        text, name, anchor = match.group(1), match.group(2), match.group(3) or ""
        return f"[{text}]({name}.html{anchor})" if name in pages else text

    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = _NOTEBOOK_LINK.sub(page, cell.source)


def _first_markdown(nb) -> str:
    return next((cell.source for cell in nb.cells if cell.cell_type == "markdown"), "")


def title(nb, name: str) -> str:
    """The notebook's title: the first heading of its first cell ("01 - The Lab colour space"),
    else its name."""
    heading = re.search(r"^#+\s+(.+)$", _first_markdown(nb), re.M)
    return heading.group(1).strip() if heading else name


def goals(nb) -> list[str]:
    """The goals a notebook opens with: the bullets after "In this notebook you will:" (or
    "Goals:") in its first cell, else its first cell's first bullets; each as one line of markdown."""
    lines = _first_markdown(nb).splitlines()
    start = next((k + 1 for k, line in enumerate(lines) if re.search(r"(you will|goals)\s*:\s*$", line, re.I)), 0)
    items: list[str] = []
    for line in lines[start:]:
        bullet = re.match(r"\s*[-*]\s+(.*)", line)
        if bullet:
            items.append(bullet.group(1).strip())
        elif items and line.startswith(" ") and line.strip():
            items[-1] += " " + line.strip()
        elif items:
            break
    return items


def machine_line(facts: dict) -> str:
    """The machine a notebook ran on, in one line: system, CPU and cores, GPUs, Keras' backend,
    devices and precision, from :func:`deepcolor.book.kernel_facts`."""
    if not facts:
        return "unknown (the notebook did not say)"
    gpus = ", ".join(facts.get("gpus") or []) or "no GPU"
    return (f"{facts.get('system')}, {facts.get('cores')} CPU cores ({facts.get('cpu')}), {gpus}; Keras "
            f"{facts.get('keras')} on the {facts.get('backend')} backend (devices: {', '.join(facts.get('devices', []))}; "
            f"{facts.get('precision')}); Python {facts.get('python')}, deepcolor {facts.get('deepcolor')}")


def _nav(names: list[str], name: str, titles: dict) -> str:
    k = names.index(name)
    links = ["[the course book: index](index.html)"]
    if k > 0:
        links.insert(0, f"← [{titles[names[k - 1]]}]({names[k - 1]}.html)")
    if k + 1 < len(names):
        links.append(f"[{titles[names[k + 1]]}]({names[k + 1]}.html) →")
    return " · ".join(links)


def _header(page, widgets: int) -> str:
    meta = page.meta
    facts = meta.get("facts", {})
    profile = facts.get("profile") or meta["profile"]
    lines = [f"> **Profile `{profile}`**" + (f": {facts['note']}" if facts.get("note") else ""),
             *[f">\n> **Offline fallback**: {reason}" for reason in facts.get("fallbacks", [])],
             f">\n> **Machine**: {machine_line(facts)}",
             f">\n> Run with `deepcolor book --profile {meta['profile']}` on {meta['executed'][:16].replace('T', ' ')}, "
             f"in {format_time(meta['seconds'])}."]
    if widgets:
        lines.append("> Sliders and other controls are shown as they started: in JupyterLab they move.")
    return "\n".join(lines)


def _export(nb, path: Path, name: str) -> None:
    import logging

    from nbconvert import HTMLExporter

    exporter = HTMLExporter(template_name="lab")
    exporter.raw_template = OFFLINE_TEMPLATE
    exporter.log.setLevel(logging.ERROR)  # not one warning per figure for its missing alt text
    nb.metadata["title"] = name
    text, _ = exporter.from_notebook_node(nb, resources={"metadata": {"name": name}})
    write_bytes(path, text.encode("utf-8"))


def _page(page, names: list[str], titles: dict):
    """The notebook of ``page`` as its book page shows it: stills, links, header and navigation."""
    import copy

    import nbformat

    nb = copy.deepcopy(page.nb)
    widgets = widget_stills(nb)
    rewrite_links(nb, set(names))
    nav = _nav(names, page.name, titles)
    nb.cells.insert(0, nbformat.v4.new_markdown_cell(f"{nav}\n\n{_header(page, widgets)}"))
    nb.cells.append(nbformat.v4.new_markdown_cell(nav))
    return nb


def _index(pages: list, profile: str, titles: dict):
    """The index as a notebook of markdown cells: what the book is, the course map, the goals."""
    import nbformat

    names = [page.name for page in pages]
    facts = next((page.meta.get("facts") for page in pages if page.meta.get("facts")), {})
    column = _TIME_COLUMN.get(facts.get("profile") or profile)  # default without internet: default-offline
    intro = (f"# DeepColor: the course book\n\nThe notebooks of the course as they ran under the profile "
             f"**`{profile}`**" + (f" (on this machine: **`{facts['profile']}`**)" if facts.get("profile") not in
                                   (None, profile) else "")
             + f", with their outputs and figures. Machine: {machine_line(facts)}.\n\n"
             "Sliders are shown as they started; to move them, and to change the code, run the notebooks in "
             "JupyterLab: `deepcolor notebooks my-course`, then `jupyter lab my-course`.")
    table = ["| notebook | what you do there | " + (f"time on the course map ({column}) | " if column else "")
             + "time here |", "|---|---|" + ("---:|" if column else "") + "---:|"]
    for k, (name, what) in enumerate(COURSE.items()):
        page = next((p for p in pages if p.name == name), None)
        cells = [f"[{name}]({name}.html)" if page else f"{name} (not in this book)", what.replace("|", "/")]
        cells += [format_time(TIMES[column][k])] if column and k < len(TIMES[column]) else []
        cells.append(format_time(page.meta["seconds"]) if page else "")
        table.append("| " + " | ".join(cells) + " |")
    cells = [nbformat.v4.new_markdown_cell(intro), nbformat.v4.new_markdown_cell("## The course map\n\n" + "\n".join(table))]
    for page in pages:
        bullets = "\n".join(f"- {goal}" for goal in goals(page.nb))
        cells.append(nbformat.v4.new_markdown_cell(
            f"## [{titles[page.name]}]({page.name}.html)\n\n{format_time(page.meta['seconds'])} here under "
            f"`{profile}`. In this notebook you will:\n\n{bullets}"))
    if not names:
        cells.append(nbformat.v4.new_markdown_cell("No notebook has run yet: `deepcolor book OUT` runs them."))
    return nbformat.v4.new_notebook(cells=cells, metadata={"language_info": {"name": "python"}})


def write_pages(folder, pages: list, profile: str) -> list[Path]:
    """Write ``index.html`` and one ``NAME.html`` per page (:class:`deepcolor.book.Page`) into
    ``folder``, and remove the pages of course notebooks no longer in the book.  Returns the paths
    written, the index first."""
    folder = Path(folder)
    names = [page.name for page in pages]
    titles = {page.name: title(page.nb, page.name) for page in pages}
    written = [folder / "index.html"]
    _export(_index(pages, profile, titles), written[0], "DeepColor: the course book")
    for page in pages:
        written.append(folder / f"{page.name}.html")
        _export(_page(page, names, titles), written[-1], titles[page.name])
    for name in COURSE:
        if name not in names:
            (folder / f"{name}.html").unlink(missing_ok=True)
    return written
