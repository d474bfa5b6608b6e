;; bounds-checked loads and stores, memory.size, memory.grow (libcall)
(module
  (memory 1)
  (func (export "copy") (param i32 i32)
    local.get 0
    local.get 1 i64.load offset=8
    i64.store16 offset=2)
  (func (export "grow") (param i32) (result i32)
    local.get 0 memory.grow
    memory.size i32.add))
