"""The lab's GUI: the classic lessons (initialisation, optimizers, paired comparisons, sanity check,
learning-rate finder, diagnostics, train vs eval mode) as panels that run the core's experiments in the
worker thread and draw what they found."""
