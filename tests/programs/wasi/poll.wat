;; poll_oneoff on [fd_read of stdin (userdata 0x11), a 100 ms monotonic clock (0x22)];
;; prints in hex the errno and the event count, then the first two events.
(module
  (import "wasi_snapshot_preview1" "poll_oneoff" (func $poll (param i32 i32 i32 i32) (result i32)))
  (import "wasi_snapshot_preview1" "fd_write" (func $w (param i32 i32 i32 i32) (result i32)))
  (memory (export "memory") 1)
  (data (i32.const 900) "0123456789abcdef")
  (func $dump (param $p i32) (param $n i32) (local $i i32) (local $b i32)
    (block $d (loop $l (br_if $d (i32.ge_u (local.get $i) (local.get $n)))
      (local.set $b (i32.load8_u (i32.add (local.get $p) (local.get $i))))
      (i32.store8 (i32.add (i32.const 2000) (i32.shl (local.get $i) (i32.const 1))) (i32.load8_u (i32.add (i32.const 900) (i32.shr_u (local.get $b) (i32.const 4)))))
      (i32.store8 (i32.add (i32.const 2001) (i32.shl (local.get $i) (i32.const 1))) (i32.load8_u (i32.add (i32.const 900) (i32.and (local.get $b) (i32.const 15)))))
      (local.set $i (i32.add (local.get $i) (i32.const 1))) (br $l)))
    (i32.store8 (i32.add (i32.const 2000) (i32.shl (local.get $n) (i32.const 1))) (i32.const 10))
    (i32.store (i32.const 0) (i32.const 2000)) (i32.store (i32.const 4) (i32.add (i32.shl (local.get $n) (i32.const 1)) (i32.const 1)))
    (drop (call $w (i32.const 1) (i32.const 0) (i32.const 1) (i32.const 8))))
  (func (export "_start")
    ;; sub 0: fd_read on stdin, userdata 0x11; sub 1: relative monotonic clock 100ms, userdata 0x22
    (i64.store (i32.const 104) (i64.const 0x11)) (i32.store8 (i32.const 112) (i32.const 1)) (i32.store (i32.const 120) (i32.const 0))
    (i64.store (i32.const 152) (i64.const 0x22)) (i32.store8 (i32.const 160) (i32.const 0)) (i32.store (i32.const 168) (i32.const 1))
    (i64.store (i32.const 176) (i64.const 100000000)) (i64.store (i32.const 184) (i64.const 0)) (i32.store16 (i32.const 192) (i32.const 0))
    (i32.store (i32.const 400) (call $poll (i32.const 104) (i32.const 200) (i32.const 2) (i32.const 404)))
    (call $dump (i32.const 400) (i32.const 8))
    (call $dump (i32.const 200) (i32.const 64))))
