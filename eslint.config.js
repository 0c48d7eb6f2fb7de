import js from '@eslint/js';
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules', 'coverage', 'bin', 'docs', 'public'] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: {
        projectService: { allowDefaultProject: ['eslint.config.js'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    rules: {
      '@typescript-eslint/no-explicit-any': 'error',
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-console': 'error',
    },
  },
  {
    files: [
      'src/cli.ts',
      'src/cli-commands.ts',
      'src/demo.ts',
      'src/startup.ts',
      'bench/**',
      'src/main.ts',
      'workers/main.ts',
    ],
    rules: { 'no-console': 'off' },
  },
  // Layers only look down: the building blocks below the features know nothing of them, so a
  // feature can change without the pipeline under every other feature changing with it.
  {
    files: ['src/platform/**/*.ts', 'src/channels/**/*.ts', 'src/notices/**/*.ts', 'src/people/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(campaigns|codes|console|api|web)(/|$)',
              message:
                'platform, channels, notices and people are lower layers: move what they need down to them, or pass it in.',
            },
          ],
        },
      ],
    },
  },
  // The campaigns are the pipeline the other features build on: a feature that narrows an audience
  // or adds to a message registers it in the composition root instead of being imported here. Its
  // own surfaces (api-routes.ts: rows of the API's table) sit on the web layer like every feature's.
  {
    files: ['src/campaigns/**/*.ts'],
    ignores: ['src/campaigns/**/*routes.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+(codes|console|api|web)(/|$)',
              message: 'campaigns/ is below the features that use it: pass what it needs in through deps.',
            },
          ],
        },
      ],
    },
  },
  // The API and the console are two surfaces over the same use cases: neither builds on the other.
  {
    files: ['src/api/**/*.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: '^(\\.\\./)+console(/|$)',
              message: 'The API does not build on the console: share through a use case or src/web/.',
            },
          ],
        },
      ],
    },
  },
  // A route file translates HTTP to a use case and back; what two of them share belongs to the
  // feature (a service, a store, a path helper), not to one of the route files. A later block's
  // no-restricted-imports replaces an earlier one's for the same file, hence the ignores: the lower
  // layers' block above stays in force for anything there.
  {
    files: ['src/**/*routes.ts'],
    ignores: ['src/platform/**', 'src/channels/**', 'src/notices/**', 'src/people/**'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            {
              regex: 'routes(\\.js)?$',
              message: 'No route file imports another route file: move what they share into the feature.',
            },
          ],
        },
      ],
    },
  },
);
