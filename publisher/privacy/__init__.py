"""Personal data: finding, exporting and erasing one person's data on request, and the retention periods."""
