"""Pay for performance: the fee schedule, what each unit earns (收益) and its 收益率."""
