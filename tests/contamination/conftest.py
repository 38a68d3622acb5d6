from contam_corpus import rng

__all__ = ["rng"]
