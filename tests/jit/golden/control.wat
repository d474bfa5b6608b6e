;; blocks with results, loops with an interrupt check, br_if, br_table
(module
  (func (export "sum") (param i32) (result i32)
    (local i32)
    block
      loop
        local.get 0 i32.eqz br_if 1
        local.get 1 local.get 0 i32.add local.set 1
        local.get 0 i32.const 1 i32.sub local.set 0
        br 0
      end
    end
    local.get 1)
  (func (export "switch") (param i32) (result i32)
    block
      block
        block
          local.get 0
          br_table 0 1 2
        end
        i32.const 10 return
      end
      i32.const 20 return
    end
    i32.const 30)
  (func (export "pick") (param i32 i32) (result i32)
    block (result i32)
      local.get 1
      local.get 0
      br_if 0
      i32.const 1 i32.add
    end))
