"""Recovery (回收) of idle units, with approval, and their redeployment (二次营销)."""
