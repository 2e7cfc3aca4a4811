"""Tests of lib.publish.source: chapters show the source of the code that runs."""
import inspect

import pytest

from lib import models
from lib.publish import source


def test_show_gives_the_running_source_highlighted():
    code = source.show(models.paper_generator, models.encoder_block)
    assert code.data == inspect.getsource(models.paper_generator).rstrip() + "\n\n\n" + \
        inspect.getsource(models.encoder_block).rstrip()
    assert "<span" in code._repr_html_()  # highlighted in HTML


def test_source_dedents_methods():
    from lib.gan import InpaintingGAN

    assert source.source(InpaintingGAN.train_step).startswith("def train_step(self, batch):")


@pytest.mark.parametrize("bad, message", [((), "at least one"), (("paper_generator",), "function, class, method")])
def test_show_rejects_what_has_no_source(bad, message):
    with pytest.raises(ValueError, match=message):
        source.show(*bad)
