/* Driver trees (analysis.md §7): grammar, n-ary mapping, import planning, evaluation. Pure. */
export * from "@/engine/driver-tree/evaluate";
export * from "@/engine/driver-tree/grammar";
export * from "@/engine/driver-tree/graph";
export * from "@/engine/driver-tree/import-plan";
export * from "@/engine/driver-tree/nary";
