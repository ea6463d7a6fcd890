"""Pure KPI computations: DataFrames in, DataFrames out. No files, no environment, no clock, no network."""

import pandas as _pd

# pandas 3 stores its default "str" dtype in pyarrow whenever pyarrow is installed (it is: the NDJSON reader
# parses with it). Those strings cannot hold a lone surrogate and convert every object column they meet; the
# tables were built and checked with pandas' own string storage, so keep it.
_pd.set_option("mode.string_storage", "python")
