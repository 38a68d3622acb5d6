"""tuneval: is the fine-tuned model really better than its base model, and how sure can you be?"""

__version__ = "0.1.0"
