/**
 * Scanline flood fill over a width-wide pixel grid: from each seed, fills whole runs of a row at a time (several
 * times faster than pixel by pixel). A pixel p is open when `mark[p] === open` and `level[p] < below`; filling
 * sets `mark[p] = value` (which must differ from `open`). No callback: the test stays inlined in every caller.
 */
export function scanlineFill(
  mark: Uint8Array,
  open: number,
  value: number,
  width: number,
  seeds: number[],
  level: Uint8Array,
  below: number,
): void {
  const stack = seeds;
  while (stack.length > 0) {
    const p = stack.pop()!;
    if (mark[p] !== open || level[p]! >= below) continue;
    const row = p - (p % width);
    let left = p;
    while (left > row && mark[left - 1] === open && level[left - 1]! < below) left--;
    let right = p;
    const rowEnd = row + width - 1;
    while (right < rowEnd && mark[right + 1] === open && level[right + 1]! < below) right++;
    mark.fill(value, left, right + 1);
    if (row > 0) pushOpenRuns(mark, open, level, below, left - width, right - width, stack);
    if (row + width < mark.length) pushOpenRuns(mark, open, level, below, left + width, right + width, stack);
  }
}

/** Pushes one seed per run of open pixels in `from..to`. */
function pushOpenRuns(mark: Uint8Array, open: number, level: Uint8Array, below: number, from: number, to: number, stack: number[]): void {
  let inRun = false;
  for (let q = from; q <= to; q++) {
    if (mark[q] === open && level[q]! < below) {
      if (!inRun) stack.push(q);
      inRun = true;
    } else inRun = false;
  }
}
