"""Pure KPI computations: DataFrames in, DataFrames out. No files, no environment, no clock, no network."""
