"""glossnorm: glossary-driven bilingual normalisation of Japanese/English news corpora."""

__version__ = "0.1.0"
