import type { Response } from 'express';
import type { Deps } from '../../deps.js';
import type { I18n } from '../../platform/i18n.js';
import { CHANNELS, isChannel, type Channel } from '../../channels/kinds.js';
import { helplineFor, lookupUrl } from '../../campaigns/compose.js';
import { localizedText, type Incident } from '../../incidents/store.js';
import { firstPersonId, loadRecipient, type Recipient } from '../../people/store.js';
import { findDeliveriesByReference } from '../../deliveries/search.js';
import { createNoticeI18n } from '../../notices/all-locales-i18n.js';
import { NOTICE_LOCALES } from '../../notices/locales.js';
import {
  checkTemplate,
  isCodeMessageKind,
  MESSAGE_KINDS,
  renderNotice,
  type CodeOfferFacts,
  type MessageKind,
} from '../../notices/render.js';
import { listPools } from '../../codes/store.js';
import { formatDay, isGoodwill } from '../../codes/rules.js';
import { deleteNoticeOverride, EVERYONE, listSegments, saveNoticeOverride } from '../../notices/templates.js';
import { templateKeys } from '../../notices/template-keys.js';
import { buildLettersPdf, letterPrintOptions } from '../../letters/pdf.js';
import { type ConsoleRoute } from '../routing.js';
import { noteAudit } from '../../web/audit-trail.js';
import { loadNoticeContent, overridesFor } from '../../campaigns/notice-content.js';
import { loadIncident } from '../../incidents/service.js';
import { staffOf } from '../../web/staff.js';

interface Selection {
  kind: MessageKind;
  channel: Channel;
  locale: string;
  /** The segment whose variant is shown and edited; '' for the texts everyone gets. */
  segment: string;
  reference: string;
}

function readSelection(source: Record<string, unknown>): Selection {
  const text = (name: string) => (typeof source[name] === 'string' ? source[name] : '');
  const kind = (MESSAGE_KINDS as readonly string[]).includes(text('kind'))
    ? (text('kind') as MessageKind)
    : 'initial_notice';
  const channel = isChannel(text('channel')) ? (text('channel') as Channel) : 'email';
  const locale = (NOTICE_LOCALES as readonly string[]).includes(text('locale')) ? text('locale') : 'en';
  const segment = /^[A-Za-z0-9_-]{1,50}$/.test(text('segment')) ? text('segment') : EVERYONE;
  return { kind, channel, locale, segment, reference: text('reference').trim() };
}

const SAMPLE_PERSON = {
  name: 'Alex Sample',
  referenceCode: '7KQ2-M9XD-4PHR-3TWA',
  postalAddress: '1 Sample Street\nSample Town AB1 2CD',
};

/**
 * Templates with preview: for each kind × channel × language, the default texts beside the incident's
 * own replacements (placeholders checked before saving), and the message as one person would get it:
 * the email or letter text, the SMS with its encoding and billed segments, the call as it is spoken.
 */
export function templateRoutes(deps: Deps): ConsoleRoute[] {
  let noticeI18n: Promise<I18n> | null = null;
  const texts = () => (noticeI18n ??= createNoticeI18n());

  const defaultText = (i18n: I18n, locale: string, key: string): string => {
    const raw: unknown = i18n.getResource(locale, 'notices', key) ?? i18n.getResource('en', 'notices', key);
    return typeof raw === 'string' ? raw : '';
  };

  const findPerson = async (incident: Incident, reference: string): Promise<Recipient | null> => {
    if (reference) {
      const found = await findDeliveriesByReference(deps.db, deps.vault, reference);
      if (!found || found.incidentId !== incident.id) return null;
      return loadRecipient(deps.db, deps.vault, found.personId);
    }
    const first = await firstPersonId(deps.db, incident.id);
    return first === null ? null : loadRecipient(deps.db, deps.vault, first);
  };

  /**
   * A code offer or code reminder is previewed with the incident's first code pool as it is set up
   * (a code in the message, or a link) and a made-up code; with no pool yet, with a sample offer.
   */
  const sampleCodeOffer = async (
    incident: Incident,
    kind: MessageKind,
    locale: string,
  ): Promise<CodeOfferFacts | null> => {
    if (!isCodeMessageKind(kind)) return null;
    const [pool] = await listPools(deps.db, { incidentId: incident.id });
    if (!pool)
      return {
        service: 'Credit monitoring',
        goodwill: false,
        vendor: 'Vendor',
        instructions: null,
        deadline: null,
        code: null,
      };
    return {
      service: pool.name,
      goodwill: isGoodwill(pool.kind),
      vendor: pool.vendorName,
      instructions: pool.instructions[locale] ?? null,
      deadline: pool.enrollBy ? formatDay(locale, pool.enrollBy) : null,
      code: pool.offerMode === 'code_in_message' ? 'SAMPLE-7K2Q-9XD4' : null,
    };
  };

  const buildPreview = async (
    incident: Incident,
    selection: Selection,
    drafts: Record<string, string> = {},
  ) => {
    const i18n = await texts();
    const { kind, channel, locale } = selection;
    // The same read and the same segment fallback as the send worker's, so the preview is what goes out.
    const content = await loadNoticeContent(deps.db, incident.id);
    const textsBySegment = content?.textsByLocale[locale] ?? {};
    const overrides = content ? overridesFor(content, locale, selection.segment) : {};
    const person = await findPerson(incident, selection.reference);
    const latest = kind === 'update' ? content?.updates[0] : undefined;
    const update = latest ? localizedText(latest.texts, locale, incident.defaultLocale) : null;
    const preview = renderNotice(i18n.t, locale, kind, channel, {
      organisation: incident.organisationName,
      name: person ? person.name : SAMPLE_PERSON.name,
      referenceCode: person ? person.referenceCode : SAMPLE_PERSON.referenceCode,
      lookupUrl: lookupUrl(deps.config.publicBaseUrl, incident.slug),
      dataTypes: person && person.exposedDataTypes.length > 0 ? person.exposedDataTypes : incident.dataTypes,
      helpline: helplineFor(incident, locale),
      incidentWording: incident.texts[locale] ?? null,
      overrides: { ...overrides, ...drafts },
      codeOffer: await sampleCodeOffer(incident, kind, locale),
      ...(update ? { updateTitle: update.title, updateBody: update.body } : {}),
      ...(kind === 'update' && channel === 'email'
        ? { unsubscribeUrl: `${deps.config.publicBaseUrl}/notices/unsubscribe/…` }
        : {}),
    });
    return { preview, person, textsBySegment };
  };

  const render = async (
    res: Response,
    incident: Incident,
    selection: Selection,
    extra: {
      status?: number;
      errors?: { field: string; messageKey: string }[];
      problem?: Record<string, string[]>;
      drafts?: Record<string, string>;
    } = {},
  ) => {
    const i18n = await texts();
    const { kind, channel, locale } = selection;
    const bundle: unknown = i18n.getResource('en', 'notices', kind);
    const keys = templateKeys(kind, channel, bundle && typeof bundle === 'object' ? Object.keys(bundle) : []);
    const { preview, person, textsBySegment } = await buildPreview(incident, selection, extra.drafts);
    const own = textsBySegment[selection.segment] ?? {};
    // A segment's variant falls back to the incident's text for everyone, then to the default.
    const fallback = (selection.segment && textsBySegment[EVERYONE]) || {};
    res.status(extra.status ?? 200).render('console/templates/index', {
      incident,
      selection,
      kinds: MESSAGE_KINDS,
      channels: CHANNELS,
      locales: NOTICE_LOCALES,
      segments: await listSegments(deps.db, incident.id),
      fields: keys.map((key) => ({
        key,
        defaultText: fallback[key] ?? defaultText(i18n, locale, key),
        override: extra.drafts?.[key] ?? own[key] ?? '',
        problem: extra.problem?.[key] ?? null,
      })),
      person: person ? { referenceCode: person.referenceCode } : null,
      personMissing: Boolean(selection.reference) && !person,
      preview,
      errors: extra.errors ?? [],
    });
  };

  return [
    {
      method: 'get',
      path: '/console/incidents/:id/templates',
      access: 'incidents:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        await render(res, incident, readSelection(req.query));
      },
    },
    {
      method: 'get',
      path: '/console/incidents/:id/templates/letter.pdf',
      access: 'incidents:read',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const selection = {
          ...readSelection(req.query),
          channel: 'letter' as const,
        };
        const { preview, person } = await buildPreview(incident, selection);
        const pdf = await buildLettersPdf(
          [
            {
              messageId: 0,
              organisation: incident.organisationName,
              name: person ? person.name : SAMPLE_PERSON.name,
              postalAddress: person?.postalAddress ?? SAMPLE_PERSON.postalAddress,
              largePrint: person?.accessibilityNeeds.includes('large_print') ?? false,
              content: preview,
            },
          ],
          letterPrintOptions(deps),
        );
        res.set('Content-Type', 'application/pdf');
        res.set('Content-Disposition', 'inline; filename="letter-preview.pdf"');
        res.send(pdf);
      },
    },
    {
      method: 'post',
      path: '/console/incidents/:id/templates',
      access: 'incidents:write',
      audit: 'template.save',
      handler: async (req, res) => {
        const incident = await loadIncident(deps, req.params.id);
        const body = req.body as Record<string, unknown>;
        const selection = readSelection(body);
        const i18n = await texts();
        const bundle: unknown = i18n.getResource('en', 'notices', selection.kind);
        const keys = templateKeys(
          selection.kind,
          selection.channel,
          bundle && typeof bundle === 'object' ? Object.keys(bundle) : [],
        );
        const drafts: Record<string, string> = {};
        const problem: Record<string, string[]> = {};
        for (const key of keys) {
          const value = body[`text.${key}`];
          if (typeof value !== 'string') continue;
          drafts[key] = value.trim();
          if (!drafts[key]) continue;
          const check = checkTemplate(drafts[key], defaultText(i18n, selection.locale, key));
          const issues = [
            ...check.unknown.map((name) => `+{{${name}}}`),
            ...check.missing.map((name) => `-{{${name}}}`),
          ];
          if (issues.length > 0) problem[key] = issues;
        }
        if (Object.keys(problem).length > 0) {
          await render(res, incident, selection, {
            status: 400,
            drafts,
            problem,
            errors: Object.keys(problem).map((key) => ({
              field: `text.${key}`,
              messageKey: 'console:templates.errors.placeholders',
            })),
          });
          return;
        }
        for (const [key, text] of Object.entries(drafts)) {
          if (text) {
            await saveNoticeOverride(deps.db, {
              incidentId: incident.id,
              locale: selection.locale,
              segment: selection.segment,
              key,
              text,
              defaultText: defaultText(i18n, selection.locale, key),
              staffId: staffOf(res).id,
            });
          } else {
            await deleteNoticeOverride(deps.db, {
              incidentId: incident.id,
              locale: selection.locale,
              segment: selection.segment,
              key,
            });
          }
        }
        noteAudit(res, {
          subjectType: 'incident',
          subjectId: incident.id,
          details: {
            kind: selection.kind,
            channel: selection.channel,
            locale: selection.locale,
            segment: selection.segment,
          },
        });
        const query = new URLSearchParams({
          kind: selection.kind,
          channel: selection.channel,
          locale: selection.locale,
        });
        if (selection.segment) query.set('segment', selection.segment);
        if (selection.reference) query.set('reference', selection.reference);
        res.redirect(303, `/console/incidents/${incident.id}/templates?${query.toString()}`);
      },
    },
  ];
}
