"""The Python that maintains the book: notebook sync, lesson generation, the shared notebook helpers."""
