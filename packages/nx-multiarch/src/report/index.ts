export { collectReport } from './collect';
export { runReportCommand, writeReport } from './cli';
export { renderHtml } from './render-html';
export { renderMarkdown } from './render-markdown';
export { writePushRecord, pushRecordPath } from '../outputs/push-record';
export type * from './types';
