;; integer arithmetic: register, immediate and frame-slot operands
(module
  (func (export "add") (param i32 i32) (result i32)
    local.get 0 local.get 1 i32.add)
  (func (export "mix") (param i64) (result i64)
    (local i64)
    local.get 0 i64.const 10 i64.mul
    local.set 1
    local.get 1 local.get 0 i64.sub
    i64.const 3 i64.shl))
