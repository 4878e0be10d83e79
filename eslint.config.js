// Type-aware lint: catches floating promises, unsafe any, and misused async callbacks.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["dist/", "node_modules/", "coverage/", "charts/", "examples/leaky-app/", "tools/"] },
  js.configs.recommended,
  ...tseslint.configs.strictTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      "@typescript-eslint/no-floating-promises": "error",
      "@typescript-eslint/no-misused-promises": "error",
      "@typescript-eslint/no-explicit-any": "error",
      "@typescript-eslint/restrict-template-expressions": [
        "error",
        { allowNumber: true, allowBoolean: true },
      ],
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_" }],
      "@typescript-eslint/no-unnecessary-condition": ["error", { allowConstantLoopConditions: true }],
      "no-restricted-imports": "off",
      // client-node's models are classes used as plain JSON data throughout; literals are the idiom.
      "@typescript-eslint/no-unsafe-class-instance-assignment": "off",
      "@typescript-eslint/no-misused-spread": [
        "error",
        { allow: [{ from: "package", package: "@kubernetes/client-node", name: "V1Pod" }] },
      ],
    },
  },
  {
    // The pure core knows nothing of Kubernetes or of the layers above it.
    files: ["src/profile/**/*.ts", "src/detect/**/*.ts", "src/api/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@kubernetes/client-node"],
              message: "Only src/kube may import @kubernetes/client-node.",
            },
            {
              group: ["../kube/*", "../controller/*", "../cli/*", "../main.ts"],
              message: "Lower layers never import upper ones.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["src/controller/**/*.ts", "src/cli/**/*.ts", "src/main.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            {
              group: ["@kubernetes/client-node"],
              message: "Only src/kube may import @kubernetes/client-node.",
            },
          ],
        },
      ],
    },
  },
  {
    files: ["**/*.js"],
    extends: [tseslint.configs.disableTypeChecked],
  },
);
