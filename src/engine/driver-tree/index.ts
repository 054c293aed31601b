/* Driver trees (analysis.md §7): grammar, n-ary mapping, import planning, editing rules, evaluation, templates. Pure. */
export * from "@/engine/driver-tree/edit";
export * from "@/engine/driver-tree/evaluate";
export * from "@/engine/driver-tree/grammar";
export * from "@/engine/driver-tree/graph";
export * from "@/engine/driver-tree/import-plan";
export * from "@/engine/driver-tree/nary";
export * from "@/engine/driver-tree/outline";
export * from "@/engine/driver-tree/sensitivity";
export * from "@/engine/driver-tree/sheet";
export * from "@/engine/driver-tree/template";
export * from "@/engine/driver-tree/tree-svg";
