// Word material for synthetic posts. Texts never contain `"`, `\` or control characters other
// than "\n", and use X's HTML escaping of &, < and > (X sends "&amp;", "&lt;", "&gt;" in `text`).

export type Lang = 'en' | 'ja' | 'ko' | 'es' | 'und';

export interface LangCorpus {
  /** Joined with `sep` in order: one opener, zero to two middles, maybe a closer. */
  openers: string[];
  middles: string[];
  closers: string[];
  hashtags: string[];
  sep: string;
}

export const EMOJI = [
  '😀', '😂', '🥲', '😍', '🤔', '🙏', '👍', '👀', '🔥', '✨', '🎉', '💯', '🚀', '☕', '🍜', '🍣',
  '🌸', '🌧️', '⚽', '🎧', '📈', '📉', '🐱', '🐶', '❤️', '💙', '👩‍💻', '🧑‍🍳', '👨‍👩‍👧', '🏳️‍🌈',
  '🇰🇷', '🇯🇵', '🇺🇸', '🇪🇸', '👍🏽', '🙌🏿', '✌️', '🤖', '🛰️', '🧪',
];

export const CORPUS: Record<Exclude<Lang, 'und'>, LangCorpus> = {
  en: {
    sep: ' ',
    openers: [
      'Just shipped', 'Hot take:', 'Reminder:', 'Can confirm', 'Breaking:', 'Honestly', 'TIL', 'PSA:',
      'Quick thread on', 'Thinking about', 'New blog post about', 'Unpopular opinion:', 'Good morning!',
      'Stuck on', 'Finally fixed', 'Anyone else seeing', 'Loving', 'Not sure about',
    ],
    middles: [
      'the new release', 'kafka consumer lag', 'stream processing at scale', 'my coffee order',
      'the weekend weather', 'idempotent producers', 'a tiny refactor', 'the game last night',
      'backpressure in node streams', 'rate limits &amp; retries', 'our on-call rotation',
      'p99 latency &lt; 10ms', 'the train being late again', 'a great podcast episode',
      'exactly-once delivery', 'the conference keynote', 'murmur2 partitioning', 'cat pictures',
      'Q&amp;A with the team', 'a flaky test', 'the sunset today',
    ],
    closers: [
      'and it works!', 'so far so good.', 'thoughts?', 'more soon.', 'what could go wrong', 'lol',
      'highly recommend.', 'send help', 'ship it.', 'again.', 'for real this time.',
    ],
    hashtags: ['#kafka', '#nodejs', '#TypeScript', '#streaming', '#devops', '#coffee', '#Monday', '#ai', '#opensource', '#dataeng'],
  },
  ja: {
    sep: '',
    openers: [
      'おはようございます！', '今日は', 'やっと', '速報：', 'ちょっと聞いて、', '新しいブログを書きました：',
      'みんなは', '週末は', '正直に言うと', 'ついに',
    ],
    middles: [
      'カフカのコンシューマーラグが気になる', 'ラーメンを食べに行った', '東京は雨です', '新しいリリースを出した',
      'ストリーム処理の勉強中', 'コーヒーが美味しい', '桜がきれい', 'テストが不安定', '猫がかわいい',
      '電車が遅れている', 'バグを直した', '会議が長すぎる',
    ],
    closers: ['。', '！', 'ね。', 'かな？', 'でした。', 'よろしくお願いします。', 'ｗ'],
    hashtags: ['#プログラミング', '#ラーメン', '#東京', '#猫', '#エンジニア', '#おはよう'],
  },
  ko: {
    sep: ' ',
    openers: [
      '안녕하세요!', '오늘은', '드디어', '속보:', '솔직히', '새 블로그 글:', '다들', '주말에는', '방금',
    ],
    middles: [
      '카프카 컨슈머 랙을 확인했어요', '새 버전을 배포했어요', '커피가 너무 맛있어요', '서울은 비가 와요',
      '스트림 처리를 공부하고 있어요', '고양이가 귀여워요', '테스트가 불안정해요', '지하철이 늦어요',
      '버그를 고쳤어요', '치킨 먹으러 가요', '회의가 너무 길어요',
    ],
    closers: ['ㅋㅋㅋ', '!', '…', '화이팅!', '감사합니다.', '어떻게 생각하세요?'],
    hashtags: ['#개발자', '#카프카', '#서울', '#커피', '#고양이', '#월요일'],
  },
  es: {
    sep: ' ',
    openers: ['¡Buenos días!', 'Acabo de', 'Opinión impopular:', 'Hoy', 'Por fin', 'Atención:', 'No puedo con'],
    middles: [
      'publicar la nueva versión', 'el partido de anoche', 'el café de la mañana', 'la latencia del clúster',
      'procesamiento de streams', 'un test inestable', 'el tráfico en Madrid', 'la lluvia de hoy',
    ],
    closers: ['¿qué opinan?', '¡vamos!', 'jajaja', 'increíble.', 'otra vez.'],
    hashtags: ['#kafka', '#fútbol', '#café', '#lunes', '#programación'],
  },
};

export const FIRST_NAMES_EN = ['Alex', 'Sam', 'Jordan', 'Taylor', 'Morgan', 'Riley', 'Casey', 'Jamie', 'Avery', 'Quinn', 'Drew', 'Robin', 'Maya', 'Noah', 'Liam', 'Emma', 'Olivia', 'Ethan'];
export const LAST_NAMES_EN = ['Smith', 'Lee', 'Garcia', 'Brown', 'Nguyen', 'Patel', 'Khan', 'Miller', 'Davis', 'Lopez', 'Wilson', 'Clark'];
export const NAMES_KO = ['김민준', '이서연', '박지훈', '최수아', '정예준', '강하은', '조도윤', '윤지우', '장서준', '임하린', '한지민', '오세훈'];
export const ROMAN_KO = ['minjun', 'seoyeon', 'jihoon', 'sua', 'yejun', 'haeun', 'doyun', 'jiwoo', 'seojun', 'harin', 'jimin', 'sehun'];
export const NAMES_JA = ['佐藤 陽翔', '鈴木 結衣', '高橋 蓮', '田中 陽葵', '伊藤 湊', '渡辺 凛', '山本 大和', '中村 さくら', '小林 悠真', '加藤 美咲'];
export const ROMAN_JA = ['haruto', 'yui', 'ren', 'himari', 'minato', 'rin', 'yamato', 'sakura', 'yuma', 'misaki'];
export const NAMES_ES = ['Lucía Fernández', 'Mateo Ruiz', 'Sofía Martín', 'Hugo Sánchez', 'Valeria Gómez', 'Diego Torres'];
export const ROMAN_ES = ['lucia', 'mateo', 'sofia', 'hugo', 'valeria', 'diego'];
export const LOCATIONS = ['Seoul', '서울', '東京', 'Tokyo', 'San Francisco, CA', 'London', 'Madrid', 'Berlin', 'Busan', '大阪', 'New York', ''];
export const DESCRIPTIONS = [
  'Software engineer. Opinions my own.', 'Data streaming nerd 🚀', '커피와 코드 ☕', 'エンジニア / 猫好き 🐱',
  'Building things on the internet.', 'SRE @ somewhere. Pager goes brrr.', '', 'Desarrolladora. Café y código.',
  'Photos, music &amp; bad puns.', 'he/him · kafka · typescript',
];
