"""Reports on engagement: totals for a period against the previous one, per channel, campaign, post and unit."""
