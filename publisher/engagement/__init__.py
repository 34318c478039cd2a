"""Engagement: figures pulled back from every channel into one store, and the unified comments inbox."""
