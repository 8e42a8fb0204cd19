"""sketch2face training pipeline: data, sketches, networks, training, evaluation, export.

Every step is a module runnable as `python -m training.<step>` from the repository root.
"""
