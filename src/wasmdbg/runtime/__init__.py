"""Running compiled code: code memory, Engine, Store, Module, Instance and friends."""
