;; direct call, imported call, call_indirect with its checks
(module
  (import "env" "f" (func $f (param i32) (result i32)))
  (type $t (func (param i32) (result i32)))
  (table 2 funcref)
  (func $g (param i32) (result i32) local.get 0 call $f)
  (func (export "h") (param i32 i32) (result i32)
    local.get 0 call $g
    local.get 1
    call_indirect (type $t)))
