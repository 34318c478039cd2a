"""Operating an installation: ``publisher check`` (is everything in order?) and ``publisher backup`` /
``publisher restore`` (the database and the media folder in one archive)."""
