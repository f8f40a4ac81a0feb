"""The course's widgets as a student uses them: JupyterLab in headless Chromium (see conftest.py).

nbval runs the cells in a kernel, where ``interact`` succeeds even when the browser would show
'Error displaying widget'; these tests look at what the browser shows."""

import io

import numpy as np
from PIL import Image

try:
    from playwright.sync_api import expect
except ImportError:  # the fixtures skip (or fail under CI) and say how to install it
    expect = None

from notebook_ui import assert_no_errors, code_cell, open_notebook, rendered, run_menu, settle, slider, wait_for, wait_until_ran


def pixels(png: bytes) -> np.ndarray:
    return np.asarray(Image.open(io.BytesIO(png)).convert("RGB"), dtype=np.int16)


def share_changed(before: bytes, after: bytes) -> float:
    a, b = pixels(before), pixels(after)
    if a.shape != b.shape:
        return 1.0
    return float((np.abs(a - b).max(axis=-1) > 8).mean())


def test_01_the_L_slider_repaints_the_swatch(lab, page, shot):
    open_notebook(page, lab, "01_lab_color_space")
    run_menu(page, "Run All Cells")
    wait_until_ran(page)
    cell = code_cell(page, "figure_slider(lab_color_space.lab_swatch")
    swatch = rendered(cell, ".figure-slider")
    image = swatch.locator("img.widget-image")
    handle, readout = slider(swatch, "L")
    expect(readout).to_have_text("60")
    before, src = image.screenshot(), image.get_attribute("src")
    shot(page, "01_lab_swatch_before", show=cell)

    handle.focus()
    for _ in range(10):
        page.keyboard.press("ArrowLeft")
    expect(readout).to_have_text("50")
    wait_for(page, lambda: image.count() and image.get_attribute("src") != src, "the swatch was not redrawn")
    settle(page, lab, "01_lab_color_space.ipynb", image)
    after = image.screenshot()
    shot(page, "01_lab_swatch_after", show=cell)
    changed = share_changed(before, after)
    assert changed > 0.2, f"the swatch barely changed after moving L from 60 to 50: {changed:.1%} of its pixels"
    assert_no_errors(page)


def test_08_run_interact_draws_a_new_figure(lab, page, shot):
    open_notebook(page, lab, "08_hyperparameter_study")
    run_menu(page, "Run All Cells")
    wait_until_ran(page, timeout=150)
    cell = code_cell(page, "hyperparameter_study.training_slider(")
    study = rendered(cell, ".widget-interact")
    handle, readout = slider(study, "lr")
    figures = study.locator(".widget-output img")
    assert figures.count() == 0, "interact_manual drew a figure before 'Run Interact' was pressed"
    shot(page, "08_learning_rate_before", show=cell)

    expect(study.locator(".widget-html")).to_contain_text("Estimated time:")  # what Run Interact will cost
    handle.focus()
    page.keyboard.press("ArrowLeft")  # one step of the log slider: figure 19's lr 1e-2 -> 1e-3
    wait_for(page, lambda: float(readout.text_content()) == 1e-3, "the lr slider did not move to 1e-3")
    study.get_by_role("button", name="Run Interact").click()
    wait_for(page, lambda: figures.count(), "no figure after 'Run Interact'", timeout=90)
    wait_for(page, lambda: figures.first.evaluate("img => img.complete && img.naturalWidth > 100"), "the figure did not load")
    shot(page, "08_learning_rate_after", show=cell)
    assert figures.count() == 1
    assert_no_errors(page)


def test_10_an_uploaded_photo_is_colorized(lab, page, shot, tmp_path):
    import skimage.data

    photo = tmp_path / "my_astronaut.png"
    Image.fromarray(skimage.data.astronaut()[40:280, 100:460]).save(photo)  # 360 x 240
    open_notebook(page, lab, "10_colorize_your_own")
    first_below = code_cell(page, "colorize_your_own.photo_from_upload(upload.value")
    first_below.locator(".jp-InputArea-editor").click()
    run_menu(page, "Run All Above Selected Cell")
    wait_until_ran(page, slice(0, 3))
    upload_cell = code_cell(page, "widgets.FileUpload(")
    upload = rendered(upload_cell, "button.widget-upload")
    with page.expect_file_chooser() as chooser:  # the button opens its (hidden) file input
        upload.click()
    chooser.value.set_files(photo)
    expect(upload).to_contain_text("(1)")  # the button counts the files it has read
    shot(page, "10_upload_before", show=upload_cell)

    first_below.locator(".jp-InputArea-editor").click()  # running moved the selection to the upload cell
    run_menu(page, "Run Selected Cell and All Below")
    wait_until_ran(page, timeout=150)
    assert "my_astronaut.png" in first_below.locator(".jp-OutputArea").text_content()
    result_cell = code_cell(page, "colorize_your_own.show_before_after(rgb, out")
    result = result_cell.locator(".jp-OutputArea img")
    wait_for(page, lambda: result.count(), "no colorized image")
    wait_for(page, lambda: result.evaluate("img => img.complete && img.naturalWidth > 100"), "the image did not load")
    shot(page, "10_upload_after", show=result_cell)
    saved = lab.home / "uploads" / "colorized" / "my_astronaut_colorized.png"
    assert saved.is_file(), f"no {saved.name} in {saved.parent}"
    colorized = pixels(saved.read_bytes())
    assert colorized.shape == (240, 360, 3), "the colorization does not have the uploaded photo's size"
    chroma = float((colorized.max(axis=-1) - colorized.min(axis=-1)).mean())
    assert chroma > 2, f"the colorization is gray: its channels differ by {chroma:.1f} levels on average"
    assert_no_errors(page)
