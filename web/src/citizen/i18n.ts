// Texts of the citizen view-only pages (H4), zh-CN default and en; the language is the
// console's (`getLang`).
import { getLang } from '../i18n';

const zh = {
  title: '公民查看（仅限查看）',
  notice:
    '本次查看依据《公共安全视频图像信息系统管理条例》第二十五条，仅用于查找走失的老年人、儿童或者智力障碍人员。画面带有您的姓名、证件号码和会话编号水印；禁止录制、拍摄、复制或传播，违者依法追究责任。',
  opening: '正在打开查看会话…',
  refused: '无法打开',
  applicant: '申请人',
  valid_until: '有效期至',
  ranges: '可查看的录像',
  camera: '摄像机',
  from: '开始',
  to: '结束',
  play: '播放',
  playing: '正在播放',
  ended_play: '播放结束',
  end_session: '结束查看',
  session_ended: '查看已结束，此链接不能再次打开。',
  no_session: '没有可用的查看会话。请打开民警提供的链接。',
  nav: '公民查看',
  create_title: '为申请人开设查看会话（H4）',
  applicant_name: '申请人姓名',
  applicant_id: '证件号码',
  reason: '事由',
  note: '备注（案情）',
  expires: '有效期至',
  add_range: '添加录像范围',
  create: '开设会话',
  created_link: '会话已开设。请将以下链接交给申请人（只能打开一次）：',
  sessions: '已开设的会话',
  state: '状态',
  end_by_officer: '结束',
  'reason.missing_elderly': '查找走失老人',
  'reason.missing_child': '查找走失儿童',
  'reason.missing_intellectual_disability': '查找走失智力障碍人员',
  'state.created': '未打开',
  'state.open': '查看中',
  'state.ended': '已结束',
};

type Key = keyof typeof zh;

const en: Record<Key, string> = {
  title: 'Citizen viewing (view only)',
  notice:
    'This viewing is granted only to look for a missing elderly person, child or person with an intellectual disability. The picture carries your name, ID number and the session number; recording, filming, copying or passing it on is forbidden and punishable.',
  opening: 'Opening the viewing session…',
  refused: 'Cannot open',
  applicant: 'Applicant',
  valid_until: 'Valid until',
  ranges: 'Footage you may view',
  camera: 'Camera',
  from: 'From',
  to: 'To',
  play: 'Play',
  playing: 'Playing',
  ended_play: 'Finished',
  end_session: 'End viewing',
  session_ended: 'The viewing has ended; this link cannot be opened again.',
  no_session: 'No viewing session. Open the link the police gave you.',
  nav: 'Citizen viewing',
  create_title: 'Open a viewing session for an applicant (H4)',
  applicant_name: 'Applicant name',
  applicant_id: 'ID number',
  reason: 'Reason',
  note: 'Note (case)',
  expires: 'Valid until',
  add_range: 'Add a range',
  create: 'Open session',
  created_link: 'Session opened. Give this link to the applicant (it opens once):',
  sessions: 'Sessions',
  state: 'State',
  end_by_officer: 'End',
  'reason.missing_elderly': 'Missing elderly person',
  'reason.missing_child': 'Missing child',
  'reason.missing_intellectual_disability': 'Missing person with an intellectual disability',
  'state.created': 'Not opened',
  'state.open': 'Viewing',
  'state.ended': 'Ended',
};

export function tc(key: Key | string): string {
  const d = getLang() === 'en' ? en : zh;
  return (d as Record<string, string>)[key] ?? key;
}
