import { Type as T, type TSchema } from "@sinclair/typebox";

/*
 * JSON schemas of the step configs (analysis.md §3.3–§3.6) as the agent's tools declare them. They
 * describe shapes and enums for the model; the engine stays the one validator of meaning, so the
 * agent and the REST API accept exactly the same configs and get the same 422 members back.
 */

const Str = (description?: string) => T.String({ minLength: 1, ...(description ? { description } : {}) });
const Nullable = <S extends TSchema>(s: S) => T.Union([s, T.Null()]);
const Ops = T.Union([T.Literal("+"), T.Literal("-"), T.Literal("*"), T.Literal("/")]);
const Basic = T.Union([
  T.Literal("sum"),
  T.Literal("mean"),
  T.Literal("count"),
  T.Literal("max"),
  T.Literal("min"),
]);
const Unit = T.Union([T.Literal("円"), T.Literal("%"), T.Literal("個")], {
  description: "円, % (a ratio: 0.03 is 3%) or 個",
});

export const FilterConfigSchema = T.Object(
  {
    categoryFilter: T.Optional(
      T.Record(T.String(), T.Array(Nullable(T.String())), {
        description: "column → values to keep (科目 or an axis column; never 値)",
      }),
    ),
    categoryExclude: T.Optional(
      T.Record(T.String(), T.Array(Nullable(T.String())), { description: "column → values to drop" }),
    ),
    numericFilter: T.Optional(
      Nullable(
        T.Union([
          T.Object({
            filterType: T.Literal("range"),
            min: T.Optional(Nullable(T.Number())),
            minInclusive: T.Optional(T.Boolean()),
            max: T.Optional(Nullable(T.Number())),
            maxInclusive: T.Optional(T.Boolean()),
          }),
          T.Object({
            filterType: T.Literal("topk"),
            k: T.Integer({ minimum: 1 }),
            order: T.Optional(T.Union([T.Literal("desc"), T.Literal("asc")])),
          }),
          T.Object({
            filterType: T.Literal("percentage"),
            minPercentile: T.Number({ minimum: 0, maximum: 100 }),
            maxPercentile: T.Number({ minimum: 0, maximum: 100 }),
          }),
        ]),
      ),
    ),
    tableFilter: T.Optional(
      Nullable(
        T.Object({
          sourceStepKey: Str("stepKey of an earlier filter/aggregate/transform step"),
          keyColumns: T.Array(T.String(), { minItems: 1 }),
          mode: T.Union([T.Literal("keep"), T.Literal("exclude")]),
        }),
      ),
    ),
  },
  { description: "Filter config: stages apply in order category → exclude → table → numeric (on 値)" },
);

export const AggregateConfigSchema = T.Object({
  groupByAxis: T.Array(T.String(), { description: "axis columns to group by; [] = grand total" }),
  aggregationConfig: T.Array(
    T.Union([
      T.Object({ name: Str(), method: Basic, subject: Str("a 科目 value of the input") }),
      T.Object({
        name: Str(),
        method: Ops,
        operands: T.Array(T.String(), {
          minItems: 2,
          maxItems: 2,
          description: "two names defined earlier in this list",
        }),
      }),
    ]),
    { minItems: 1, maxItems: 50 },
  ),
});

const Calculation = T.Union([
  T.Object({ type: T.Literal("constant"), value: Nullable(T.Union([T.String(), T.Number()])) }),
  T.Object({ type: T.Literal("copy"), copyFrom: Str() }),
  T.Object({
    type: T.Literal("mapping"),
    operands: T.Array(T.String(), { minItems: 1, maxItems: 1 }),
    mappingDict: T.Record(T.String(), T.Union([T.String(), T.Number()])),
    default: T.Optional(Nullable(T.Union([T.String(), T.Number()]))),
  }),
  T.Object({
    type: T.Literal("formula"),
    formulaType: T.Optional(Ops),
    operands: T.Optional(T.Array(T.String(), { minItems: 1, maxItems: 2 })),
    constantValue: T.Optional(T.Number()),
    constantSide: T.Optional(T.Union([T.Literal("right"), T.Literal("left")])),
    expression: T.Optional(T.String({ description: "e.g. (売上 - 原価) / 売上" })),
  }),
]);

export const TransformConfigSchema = T.Object({
  operations: T.Array(
    T.Object({
      operationType: T.Union([
        T.Literal("add_axis"),
        T.Literal("modify_axis"),
        T.Literal("add_subject"),
        T.Literal("modify_subject"),
      ]),
      targetName: Str(),
      calculation: Calculation,
    }),
    { minItems: 1, maxItems: 50 },
  ),
});

export const SummaryConfigSchema = T.Object({
  formulas: T.Optional(
    T.Array(
      T.Union([
        T.Object({
          name: Str(),
          method: Basic,
          subject: Str(),
          unit: Unit,
          portion: T.Optional(T.Number()),
        }),
        T.Object({
          name: Str(),
          method: Ops,
          operands: T.Array(T.String(), { minItems: 2, maxItems: 2 }),
          unit: Unit,
          portion: T.Optional(T.Number()),
        }),
      ]),
      { maxItems: 50 },
    ),
  ),
  chartConfig: T.Optional(
    Nullable(
      T.Object(
        {
          graphType: T.Union(
            ["bar", "horizontal bar", "stacked bar", "line", "scatter", "line&bar", "waterfall", "pie"].map(
              (g) => T.Literal(g),
            ),
          ),
        },
        {
          additionalProperties: true,
          description:
            "Chart keys by type: bar/line {xAxis, yAxis:'値', legendAxis?}; horizontal bar {xAxis:'値', yAxis}; stacked bar {xAxis, yAxis:'値', stackAxis}; scatter {xSubject, ySubject, legendAxis?}; line&bar {xAxis, yLeftSubject, yLeftType, yRightSubject, yRightType}; waterfall {xAxis, yAxis:'値', measureType}; pie {valueAxis:'値', legendAxis}; all: title?, sortBy?",
        },
      ),
    ),
  ),
  tableConfig: T.Optional(
    Nullable(T.Object({ showSourceData: T.Boolean(), tableName: T.Optional(T.String()) })),
  ),
});

export const CONFIG_SCHEMAS = {
  filter: FilterConfigSchema,
  aggregate: AggregateConfigSchema,
  transform: TransformConfigSchema,
  summary: SummaryConfigSchema,
} as const;
