"""The IPython face: the extension, ``%%respond``/``%respond``, ``%agcloud`` and option parsing."""
