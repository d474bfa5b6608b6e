;; GUEST_DEBUG: patch sites before every reachable opcode
(module
  (func (export "f") (param i32) (result i32)
    local.get 0
    if (result i32)
      i32.const 1
    else
      local.get 0 i32.const 2 i32.mul
    end))
