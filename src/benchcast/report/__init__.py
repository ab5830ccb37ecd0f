"""Reports: terminal tables now, HTML with charts beside them. Reports read forecasts; they never refit."""
