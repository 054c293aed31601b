export * from "./activity";
export * from "./analysis";
export * from "./audit";
export * from "./collaboration";
export * from "./driver-tree";
export * from "./identity";
export * from "./projects";
