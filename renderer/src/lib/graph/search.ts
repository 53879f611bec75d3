// Find in the graph (Ctrl/Cmd+F): nodes whose name, class or op type, or one of whose values
// (ONNX inputs, outputs, weights) contains the query, best matches first.
import type { ViewGraph, ViewNode } from './types.ts';

export interface SearchHit {
  node: ViewNode;
  /** What matched, for the result list: the name, the title, or a value name. */
  matched: string;
}

const MAX_HITS = 200;

/** 0: the whole name, 1: the name's start, 2: inside the name or the title, 3: a value. */
function rank(node: ViewNode, query: string): { rank: number; matched: string } | null {
  const name = node.name.toLowerCase();
  if (name === query) return { rank: 0, matched: node.name };
  if (name.startsWith(query)) return { rank: 1, matched: node.name };
  if (name.includes(query)) return { rank: 2, matched: node.name };
  if (node.title.toLowerCase().includes(query)) return { rank: 2, matched: node.title };
  const keyword = node.keywords?.find((word) => word.toLowerCase().includes(query));
  return keyword === undefined ? null : { rank: 3, matched: keyword };
}

export function searchGraph(graph: ViewGraph, query: string): SearchHit[] {
  const needle = query.trim().toLowerCase();
  if (!needle) return [];
  const ranked: { hit: SearchHit; rank: number; order: number }[] = [];
  graph.nodes.forEach((node, order) => {
    const match = rank(node, needle);
    if (match) ranked.push({ hit: { node, matched: match.matched }, rank: match.rank, order });
  });
  ranked.sort((a, b) => a.rank - b.rank || a.order - b.order);
  return ranked.slice(0, MAX_HITS).map((entry) => entry.hit);
}
