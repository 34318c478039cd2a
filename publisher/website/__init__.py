"""The union's own public news website: published articles, readers' comments and page-view counters."""
