// Fields and expansions of the X API v2 streams (tweet.fields / user.fields / expansions enums of
// X's OpenAPI spec 2.167, August 2026), as the node's editor offers them, and the query
// parameters they become.

export const TWEET_FIELDS = [
  'article', 'attachments', 'author_id', 'card_uri', 'community_id', 'context_annotations', 'conversation_id',
  'created_at', 'display_text_range', 'edit_controls', 'edit_history_tweet_ids', 'entities', 'geo', 'id',
  'in_reply_to_user_id', 'lang', 'matched_media_notes', 'media_metadata', 'non_public_metrics',
  'note_request_suggestions', 'note_tweet', 'organic_metrics', 'paid_partnership', 'possibly_sensitive',
  'promoted_metrics', 'public_metrics', 'referenced_tweets', 'reply_settings', 'scopes', 'source',
  'suggested_source_links', 'suggested_source_links_with_counts', 'text', 'withheld',
];
export const USER_FIELDS = [
  'affiliation', 'confirmed_email', 'connection_status', 'created_at', 'description', 'entities', 'id',
  'is_identity_verified', 'location', 'most_recent_tweet_id', 'name', 'parody', 'pinned_tweet_id',
  'profile_banner_url', 'profile_image_url', 'protected', 'public_metrics', 'receives_your_dm', 'subscription',
  'subscription_type', 'url', 'username', 'verified', 'verified_followers_count', 'verified_type', 'withheld',
];
export const EXPANSIONS = [
  'article.cover_media', 'article.media_entities', 'attachments.media_keys', 'attachments.media_source_tweet',
  'attachments.poll_ids', 'author_id', 'edit_history_tweet_ids', 'entities.mentions.username', 'geo.place_id',
  'in_reply_to_user_id', 'entities.note.mentions.username', 'referenced_tweets.id',
  'referenced_tweets.id.attachments.media_keys', 'referenced_tweets.id.author_id',
];

/** author_id is asked for so that msg.key can be the author. */
export const DEFAULT_TWEET_FIELDS = 'author_id,created_at,lang,public_metrics';
export const DEFAULT_USER_FIELDS = '';
export const DEFAULT_EXPANSIONS = 'author_id';

export interface FieldSelection {
  tweetFields: string;
  userFields: string;
  expansions: string;
}

/** "a, b,,c" or ['a','b'] → "a,b,c" (order kept, repeats out). */
export function fieldList(value: unknown): string {
  const items = Array.isArray(value) ? value.map(String) : typeof value === 'string' ? value.split(',') : [];
  return [...new Set(items.map((s) => s.trim()).filter(Boolean))].join(',');
}

/** Names X does not know, per list (so the node can say so before X answers 400). */
export function unknownFields(sel: FieldSelection): string[] {
  const out: string[] = [];
  const check = (list: string, known: string[], param: string) => {
    for (const f of list ? list.split(',') : []) if (!known.includes(f)) out.push(`${param}: ${f}`);
  };
  check(sel.tweetFields, TWEET_FIELDS, 'tweet.fields');
  check(sel.userFields, USER_FIELDS, 'user.fields');
  check(sel.expansions, EXPANSIONS, 'expansions');
  return out;
}

/** The query parameters (blank lists left out). */
export function fieldParams(sel: FieldSelection): Record<string, string> {
  const p: Record<string, string> = {};
  if (sel.tweetFields) p['tweet.fields'] = sel.tweetFields;
  if (sel.userFields) p['user.fields'] = sel.userFields;
  if (sel.expansions) p.expansions = sel.expansions;
  return p;
}
