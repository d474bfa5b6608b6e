"""The guest debugger: breakpoints, stepping, frames, events, source mapping."""
