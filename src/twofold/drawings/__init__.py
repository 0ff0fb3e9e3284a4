"""One module per family with the figures that family declares (``Family.figures``, :class:`twofold.model.Drawing`)."""
