"""The book's studies, one module each: what it trains (its registry of recipes, seeds and run
folders), how it scores them into the record a chapter reads, the numbers the chapter reads from
that record, and its command-line entries (``COMMANDS``). A study's figures sit beside it
(``<study>_figures.py``). Studies build on the core of `lib` and on the studies before them, never
on the command line or the publishing tools.

A new study: one module here with its ``COMMANDS``, one line in `lib.cli.TABLES`, its chapter
below, and its tests in ``tests/studies/test_<study>.py``.
"""

# Which studies each chapter reads (and where a reader meets each study first).
CHAPTERS = {
    "03_training.ipynb": ("paper_gan",),
    "04_evaluation.ipynb": ("paper_gan", "collapse", "tradeoff", "speed"),
    "05_collapse.ipynb": ("collapse",),
    "06_beyond.ipynb": ("ablation", "hole_sizes"),
    "07_realism.ipynb": ("tradeoff", "hole_sizes"),
    "08_correction.ipynb": ("correction",),
    "09_beyond_digits.ipynb": ("beyond_digits",),
    "appendix_a_collapse_study.ipynb": ("collapse", "paper_gan"),
    "appendix_b_hole_sizes.ipynb": ("hole_sizes", "ceiling"),
    "appendix_c_realism_study.ipynb": ("tradeoff",),
    "appendix_d_speed.ipynb": ("speed", "speed_settings", "selection", "ablation", "hole_sizes", "tradeoff"),
}
