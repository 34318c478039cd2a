"""News sources: RSS/Atom feeds fetched safely, their items kept, deduplicated and turned into drafts."""
