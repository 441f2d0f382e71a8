/* tslint:disable */
/* eslint-disable */

/**
 * The ABI version this module speaks.
 */
export function abiVersion(): number;

/**
 * Run operation `op` (by name) on a JSON request; returns the JSON response.
 *
 * # Errors
 * Throws an `Error` whose `code` property is the stable error code and
 * whose `body` is the error document every host reports (`code`,
 * `message`, and `path` / `audit` when present; docs/ABI.md).
 */
export function call(op: string, request: string): string;

/**
 * ABI version; a host refuses a module whose version it does not know.
 */
export function ct_abi_version(): number;

/**
 * Allocate `len` bytes for a request; 0 when impossible.
 */
export function ct_alloc(len: number): number;

/**
 * Run operation `op` on the request at `ptr..ptr+len`; 0 = ok, 1 = error.
 */
export function ct_call(op: number, ptr: number, len: number): number;

/**
 * Free a buffer from `ct_alloc`. Unknown pointers are ignored.
 */
export function ct_free(ptr: number, _len: number): void;

/**
 * Length of the last response.
 */
export function ct_out_len(): number;

/**
 * Address of the last response.
 */
export function ct_out_ptr(): number;

/**
 * The names of the operations, in id order.
 */
export function operations(): string[];

export type InitInput = RequestInfo | URL | Response | BufferSource | WebAssembly.Module;

export interface InitOutput {
    readonly memory: WebAssembly.Memory;
    readonly abiVersion: () => number;
    readonly call: (a: number, b: number, c: number, d: number) => [number, number, number, number];
    readonly ct_abi_version: () => number;
    readonly ct_alloc: (a: number) => number;
    readonly ct_call: (a: number, b: number, c: number) => number;
    readonly ct_free: (a: number, b: number) => void;
    readonly ct_out_len: () => number;
    readonly ct_out_ptr: () => number;
    readonly operations: () => [number, number];
    readonly __wbindgen_exn_store: (a: number) => void;
    readonly __externref_table_alloc: () => number;
    readonly __wbindgen_externrefs: WebAssembly.Table;
    readonly __wbindgen_malloc: (a: number, b: number) => number;
    readonly __wbindgen_realloc: (a: number, b: number, c: number, d: number) => number;
    readonly __wbindgen_free: (a: number, b: number, c: number) => void;
    readonly __externref_table_dealloc: (a: number) => void;
    readonly __externref_drop_slice: (a: number, b: number) => void;
    readonly __wbindgen_start: () => void;
}

export type SyncInitInput = BufferSource | WebAssembly.Module;

/**
 * Instantiates the given `module`, which can either be bytes or
 * a precompiled `WebAssembly.Module`.
 *
 * @param {{ module: SyncInitInput }} module - Passing `SyncInitInput` directly is deprecated.
 *
 * @returns {InitOutput}
 */
export function initSync(module: { module: SyncInitInput } | SyncInitInput): InitOutput;

/**
 * If `module_or_path` is {RequestInfo} or {URL}, makes a request and
 * for everything else, calls `WebAssembly.instantiate` directly.
 *
 * @param {{ module_or_path: InitInput | Promise<InitInput> }} module_or_path - Passing `InitInput` directly is deprecated.
 *
 * @returns {Promise<InitOutput>}
 */
export default function __wbg_init (module_or_path?: { module_or_path: InitInput | Promise<InitInput> } | InitInput | Promise<InitInput>): Promise<InitOutput>;
