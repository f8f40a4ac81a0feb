"""What the notebooks show: one module per notebook (or group of notebooks), named after it.

Each function here draws a figure or builds a table from the tested functions of the package;
the notebooks call them.  A reader looking for what notebook ``01_lab_color_space`` draws opens
``deepcolor/lessons/lab_color_space.py``.
"""
